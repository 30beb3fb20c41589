"""How many KMS calls and how much latency the vault adds, against a per-record KMS call.

Starts the fake Cloud KMS as a real process, then times 1,000 token writes (encrypt) on one vault
instance and 1,000 reads (decrypt) on a fresh instance, as a different function instance reading
what another wrote would. Reads on a fresh instance are the honest case: the writer already holds
every DEK it made, so reading there costs no KMS call at all. The naive comparison wraps each
record with its own KMS Encrypt and unwraps it with its own KMS Decrypt.

Run: ``.venv/bin/python bench/vault_kms.py`` (not a test; pytest does not collect it).
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
import uuid
from collections.abc import Callable
from pathlib import Path

from emulator.kms.control import KmsControl, start
from shared.crypto.kms import crc32c
from shared.crypto.vault import Vault, field_context, make_kms_client

N = 1000


def timed(op: Callable[[int], object]) -> list[float]:
    """Microseconds per call of ``op(i)`` for i in 0..N-1."""
    samples = []
    for i in range(N):
        start_ns = time.perf_counter_ns()
        op(i)
        samples.append((time.perf_counter_ns() - start_ns) / 1000)
    return samples


def summary(samples: list[float]) -> str:
    ordered = sorted(samples)
    p99 = ordered[int(len(ordered) * 0.99) - 1]
    median = statistics.median(ordered)
    return f"median {median:8.1f} µs   p99 {p99:8.1f} µs   max {ordered[-1]:8.1f} µs"


def main() -> int:
    argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0]).parse_args()
    child, host = start(Path(tempfile.mkdtemp(prefix="bench-kms-")))
    try:
        client = make_kms_client(host)
        control = KmsControl(host)
        ring = "projects/demo-bench/locations/global/keyRings/bench"
        key = f"{ring}/cryptoKeys/k{uuid.uuid4().hex[:8]}"
        contexts = [field_context(f"users/u{i}/accounts/o{i}", "access_token") for i in range(N)]
        tokens = [f"act.{uuid.uuid4().hex}{uuid.uuid4().hex}" for _ in range(N)]
        client.get_crypto_key(name=key)  # Create the key and warm the channel outside the timing.

        control.reset()
        writer = Vault(client, key)
        stored: list[str] = [""] * N

        def write(i: int) -> None:
            stored[i] = writer.encrypt(tokens[i], context=contexts[i])

        enc = timed(write)
        write_calls = control.total_calls()

        control.reset()
        reader = Vault(client, key)
        dec = timed(lambda i: reader.decrypt(stored[i], context=contexts[i]))
        read_calls = control.total_calls()

        control.reset()
        naive: list[bytes] = [b""] * N

        def naive_write(i: int) -> None:
            aad = contexts[i].encode()
            data = tokens[i].encode()
            naive[i] = client.encrypt(
                request={
                    "name": key,
                    "plaintext": data,
                    "plaintext_crc32c": crc32c(data),
                    "additional_authenticated_data": aad,
                    "additional_authenticated_data_crc32c": crc32c(aad),
                }
            ).ciphertext

        naive_enc = timed(naive_write)
        naive_write_calls = control.total_calls()
        control.reset()
        naive_dec = timed(
            lambda i: client.decrypt(
                request={
                    "name": key,
                    "ciphertext": naive[i],
                    "ciphertext_crc32c": crc32c(naive[i]),
                    "additional_authenticated_data": contexts[i].encode(),
                }
            )
        )
        naive_read_calls = control.total_calls()
    finally:
        child.stop()

    print(f"Vault over the fake KMS on {host}, {N} operations each\n")
    print(f"KMS calls per {N} writes:  vault {write_calls:5d}   per-record KMS {naive_write_calls}")
    print(f"KMS calls per {N} reads:   vault {read_calls:5d}   per-record KMS {naive_read_calls}")
    print("  (reads on a fresh instance; on the writing instance they cost 0 calls)\n")
    print(f"encrypt, vault:           {summary(enc)}")
    print(f"decrypt, vault:           {summary(dec)}")
    print(f"encrypt, per-record KMS:  {summary(naive_enc)}")
    print(f"decrypt, per-record KMS:  {summary(naive_dec)}")
    print("\nThe fake KMS is on loopback; real Cloud KMS adds a network round trip (typically")
    print("several milliseconds) to every per-record call, and to the vault's one call per DEK.")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
