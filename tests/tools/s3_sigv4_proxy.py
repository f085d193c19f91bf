#!/usr/bin/python3
"""A reverse proxy in front of s3rver that checks every request's SigV4 signature with
botocore (Debian's python3-botocore), independently of the client that made it.

usage: s3_sigv4_proxy.py LISTEN_PORT UPSTREAM_PORT ACCESS_KEY SECRET_KEY REGION LOG [DELAY_S]

s3rver stores objects (started with --allow-mismatched-signatures, it accepts any
signature of its one account S3RVER); this proxy answers like S3 does:
403 InvalidAccessKeyId for another access key, 403 SignatureDoesNotMatch when botocore
computes another signature for the same request (canonical URI as S3 builds it: the
decoded key re-encoded with every byte but A-Za-z0-9-._~/ as %XX), 400
XAmzContentSHA256Mismatch when x-amz-content-sha256 is not the body's SHA-256. Accepted
requests go on to s3rver. Every request is logged as one JSON line (time, method, path,
status, verdict) to LOG. DELAY_S: a pause before forwarding each PUT (slow link).
"""
import hashlib, http.client, http.server, json, re, sys, threading, time, urllib.parse

from botocore.auth import S3SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

port, upstream, access, secret, region, log_path = sys.argv[1:7]
delay = float(sys.argv[7]) if len(sys.argv) > 7 else 0.0
log_lock = threading.Lock()
AUTH_RE = re.compile(r"AWS4-HMAC-SHA256 Credential=([^/]+)/(\d{8})/([^/]+)/s3/aws4_request,\s*"
                     r"SignedHeaders=([^,]+),\s*Signature=([0-9a-f]{64})")


def s3_error(code, message):
    return ("<?xml version=\"1.0\" encoding=\"UTF-8\"?><Error><Code>%s</Code><Message>%s</Message></Error>"
            % (code, message)).encode()


def verify(method, raw_path, headers, body):
    """None when the request is signed right, else (status, code, message)."""
    m = AUTH_RE.fullmatch(headers.get("Authorization", "").strip())
    if not m:
        return 403, "AccessDenied", "no AWS4-HMAC-SHA256 Authorization header"
    key_id, day, req_region, signed, signature = m.groups()
    if key_id != access:
        return 403, "InvalidAccessKeyId", "The AWS Access Key Id you provided does not exist in our records."
    if req_region != region:
        return 400, "AuthorizationHeaderMalformed", "the region '%s' is wrong; expecting '%s'" % (req_region, region)
    payload = headers.get("x-amz-content-sha256")
    if payload is None:
        return 400, "InvalidRequest", "Missing required header for this request: x-amz-content-sha256"
    if payload != "UNSIGNED-PAYLOAD" and payload != hashlib.sha256(body).hexdigest():
        return 400, "XAmzContentSHA256Mismatch", "The provided 'x-amz-content-sha256' header does not match what was computed."
    path, _, query = raw_path.partition("?")
    canonical_path = urllib.parse.quote(urllib.parse.unquote(path), safe="/~")
    url = "http://%s%s%s" % (headers["host"], canonical_path, "?" + query if query else "")
    signed_headers = {h: headers[h] for h in signed.split(";") if headers.get(h) is not None}
    req = AWSRequest(method=method, url=url, headers=signed_headers, data=body)
    req.context["timestamp"] = headers["x-amz-date"]
    auth = S3SigV4Auth(Credentials(access, secret), "s3", region)
    expected = auth.signature(auth.string_to_sign(req, auth.canonical_request(req)), req)
    if expected != signature:
        return 403, "SignatureDoesNotMatch", "The request signature we calculated does not match the signature you provided."
    return None


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def handle_any(self):
        n = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(n) if n else b""
        verdict = verify(self.command, self.path, self.headers, body)
        if verdict:
            status, code, message = verdict
            out = s3_error(code, message)
            self.send_response(status)
            self.send_header("Content-Type", "application/xml")
            self.send_header("Content-Length", str(len(out)))
            self.end_headers()
            self.wfile.write(out)
            verdict_text = code
        else:
            if delay and self.command == "PUT":
                time.sleep(delay)
            conn = http.client.HTTPConnection("127.0.0.1", int(upstream), timeout=60)
            fwd = {k: v for k, v in self.headers.items() if k.lower() not in ("connection", "expect", "transfer-encoding")}
            fwd["Content-Length"] = str(len(body))
            # s3rver knows one account (S3RVER) and runs with --allow-mismatched-signatures:
            # the signature was checked above, the key id is swapped for its own.
            fwd["Authorization"] = self.headers["Authorization"].replace("Credential=" + access + "/", "Credential=S3RVER/", 1)
            conn.request(self.command, self.path, body=body, headers=fwd)
            r = conn.getresponse()
            out = r.read()
            status = r.status
            self.send_response(status)
            for k, v in r.getheaders():
                if k.lower() not in ("connection", "transfer-encoding", "content-length"):
                    self.send_header(k, v)
            self.send_header("Content-Length", str(len(out)))
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(out)
            conn.close()
            verdict_text = "ok"
        with log_lock, open(log_path, "a") as f:
            f.write(json.dumps({"t": time.time(), "method": self.command, "path": urllib.parse.unquote(self.path),
                                "status": status, "verdict": verdict_text, "bytes": len(body)}) + "\n")

    do_GET = do_PUT = do_HEAD = do_POST = do_DELETE = handle_any


srv = http.server.ThreadingHTTPServer(("127.0.0.1", int(port)), Handler)
srv.daemon_threads = True
print("listening", flush=True)
srv.serve_forever()
