"""A local stand-in for Cloud KMS: ``google.cloud.kms.v1.KeyManagementService`` over plain gRPC.

There is no official Cloud KMS emulator, so the local stack and the tests run this one. It speaks
the real wire protocol (the google-cloud-kms client talks to it unchanged through an insecure
channel), keeps keys in memory, and adds a small control service on the same port so tests and
benchmarks can count calls and inject failures. Run it with
``python -m emulator.kms --host 127.0.0.1 --port N``; :mod:`emulator.kms.control` drives it.
"""
