#!/usr/bin/env python3
"""A keyrotor client in Python, from the published proto only.

Over mutual TLS it creates a key, asks for a data key under it (GenerateDataKey: the plaintext
data key and the same key wrapped by the cluster), has the cluster decrypt the wrapped copy
(Decrypt), and exits 0 only if the decrypted key equals the plaintext data key.

The gRPC stubs are generated at run time from proto/src/main/proto with grpc_tools.protoc into a
temporary directory, so nothing generated is checked in. Needs Debian's python3-grpcio and
python3-grpc-tools (run it with /usr/bin/python3).

    examples/python/envelope_roundtrip.py --servers 127.0.0.1:7101,127.0.0.1:7102,127.0.0.1:7103 \
        --tls-dir .keyrotor/cluster/tls

Errors print their status code, message and the google.rpc.ErrorInfo reason keyrotor sends.
"""

import argparse
import base64
import importlib
import os
import sys
import tempfile
import time
import uuid

import grpc

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
# google/api/*: the HTTP mappings key_service.proto's RPCs carry (copies from googleapis beside them).
PROTOS = ("keyrotor/v1/key_service.proto", "keyrotor/v1/key.proto", "keyrotor/v1/error_reason.proto",
          "google/api/annotations.proto", "google/api/http.proto")


def generate_stubs(proto_root, out_dir):
    """Runs protoc (from grpc_tools) over keyrotor's public protos into out_dir."""
    from grpc_tools import protoc

    os.makedirs(os.path.join(out_dir, "example"))
    with open(os.path.join(out_dir, "example", "rpc_details.proto"), "w") as f:
        f.write(RPC_DETAILS_PROTO)
    well_known = os.path.join(os.path.dirname(protoc.__file__), "_proto")
    args = ["protoc", "-I" + proto_root, "-I" + well_known, "-I" + out_dir,
            "--python_out=" + out_dir, "--grpc_python_out=" + out_dir,
            "example/rpc_details.proto"] + list(PROTOS)
    if protoc.main(args) != 0:
        raise SystemExit("error: protoc failed on the protos under " + proto_root)
    for package in ("example", "keyrotor", "keyrotor/v1"):
        open(os.path.join(out_dir, package, "__init__.py"), "a").close()
    sys.path.insert(0, out_dir)
    return (importlib.import_module("keyrotor.v1.key_service_pb2"),
            importlib.import_module("keyrotor.v1.key_service_pb2_grpc"),
            importlib.import_module("example.rpc_details_pb2"))


def credentials(tls_dir, principal):
    def read(name):
        with open(os.path.join(tls_dir, name), "rb") as f:
            return f.read()

    return grpc.ssl_channel_credentials(
        root_certificates=read("ca.pem"),
        private_key=read(principal + "-key.pem"),
        certificate_chain=read(principal + ".pem"))


# google.rpc.Status and google.rpc.ErrorInfo, the fields read here with their wire numbers:
# Debian ships no googleapis-common-protos, and these two messages are all the example needs.
RPC_DETAILS_PROTO = """
syntax = "proto3";
package example.rpc;
import "google/protobuf/any.proto";
message Status { int32 code = 1; string message = 2; repeated google.protobuf.Any details = 3; }
message ErrorInfo { string reason = 1; string domain = 2; map<string, string> metadata = 3; }
"""


def error_reason(error, details_pb):
    """The ErrorInfo reason of a keyrotor status (from grpc-status-details-bin), or ''."""
    for key, value in error.trailing_metadata() or ():
        if key == "grpc-status-details-bin":
            for detail in details_pb.Status.FromString(value).details:
                if detail.type_url.endswith("/google.rpc.ErrorInfo"):
                    return details_pb.ErrorInfo.FromString(detail.value).reason
    return ""


def call_any(stubs, method, request, timeout, rounds=20):
    """Calls `method` on the first node that answers; UNAVAILABLE (no leader yet) tries the next."""
    last = None
    for _ in range(rounds):
        for stub in stubs:
            try:
                return getattr(stub, method)(request, timeout=timeout)
            except grpc.RpcError as e:
                if e.code() != grpc.StatusCode.UNAVAILABLE:
                    raise
                last = e
        time.sleep(0.5)
    raise last


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--servers", default=os.environ.get("KEYROTOR_SERVERS", "127.0.0.1:7101"),
                        help="comma-separated host:port list (env KEYROTOR_SERVERS)")
    parser.add_argument("--tls-dir", default=os.path.join(REPO, ".keyrotor", "cluster", "tls"),
                        help="directory holding ca.pem, PRINCIPAL.pem and PRINCIPAL-key.pem")
    parser.add_argument("--principal", default="admin", help="which caller certificate to present")
    parser.add_argument("--proto-root", default=os.path.join(REPO, "proto", "src", "main", "proto"))
    parser.add_argument("--key", default="example-py-" + uuid.uuid4().hex[:8])
    parser.add_argument("--timeout", type=float, default=20.0, help="seconds per call")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="keyrotor-py-stubs-") as out_dir:
        pb, pb_grpc, details_pb = generate_stubs(args.proto_root, out_dir)
        creds = credentials(args.tls_dir, args.principal)
        channels = [grpc.secure_channel(s.strip(), creds) for s in args.servers.split(",") if s.strip()]
        stubs = [pb_grpc.KeyServiceStub(c) for c in channels]
        try:
            call_any(stubs, "CreateKey", pb.CreateKeyRequest(name=args.key), args.timeout)
            context = {"example": "python"}
            data_key = call_any(stubs, "GenerateDataKey",
                                pb.GenerateDataKeyRequest(key_name=args.key, context=context),
                                args.timeout)
            decrypted = call_any(stubs, "Decrypt",
                                 pb.DecryptRequest(ciphertext=data_key.wrapped_data_key,
                                                   context=context),
                                 args.timeout)
        except grpc.RpcError as e:
            print("error: %s %s (%s)" % (e.code().name, e.details(), error_reason(e, details_pb)),
                  file=sys.stderr)
            return 1
        finally:
            for c in channels:
                c.close()

    match = decrypted.plaintext == data_key.plaintext and len(data_key.plaintext) > 0
    # The data key is printed only as a fingerprint-free length: it is key material.
    print("key=%s version=%d data_key_bytes=%d wrapped_b64=%s decrypted_matches=%s"
          % (args.key, data_key.key_version, len(data_key.plaintext),
             base64.b64encode(data_key.wrapped_data_key).decode()[:24] + "...",
             "true" if match else "false"))
    return 0 if match else 2


if __name__ == "__main__":
    sys.exit(main())
