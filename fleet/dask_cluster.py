"""The Dask client both fleet jobs use (fleet_features.py, fleet_train.py): a running
scheduler when an address is given, else a local cluster of `workers` processes with one
thread each (the jobs are CPU-bound Python/XGBoost: processes, not threads, use the
cores) and no dashboard. Closes the client and the local cluster on exit.

    with dask_client(args.scheduler, args.workers) as client:
        ...
"""
import contextlib


@contextlib.contextmanager
def dask_client(scheduler, workers):
    from dask.distributed import Client, LocalCluster
    cluster = None
    if scheduler:
        client = Client(scheduler)
    else:
        cluster = LocalCluster(n_workers=workers, threads_per_worker=1, processes=True, dashboard_address=None)
        client = Client(cluster)
    try:
        yield client
    finally:
        client.close()
        if cluster:
            cluster.close()
