# The compose demo's broker: Debian 12's mosquitto on the same base image as vigil, so the
# demo needs no registry but Debian's package mirror (an offline plant network has no
# Docker Hub either; `eclipse-mosquitto` is not needed). Built by docker/docker-compose.yml.
FROM debian:12
RUN apt-get update \
 && apt-get install -y --no-install-recommends mosquitto \
 && rm -rf /var/lib/apt/lists/* \
 && mkdir -p /mosquitto/data \
 && chown mosquitto:mosquitto /mosquitto/data
USER mosquitto
VOLUME /mosquitto/data
EXPOSE 1883
CMD ["mosquitto", "-c", "/etc/mosquitto/mosquitto.conf"]
