#!/usr/bin/env python3
"""Sequential Search latency as a Python grpcio client sees it (one call at a time).

Usage: python3 benches/grpc_latency.py HOST:PORT QUERIES.jsonl [CALLS]

The timed calls go through the queries in order from the first, after a warm-up with the
last 50. Needs only `pip install grpcio`: the SearchRequest is encoded by hand (field 1, `query`), and
the response is not decoded. Prints p50/p90/p99 in milliseconds.
"""
import json
import sys
import time

import grpc


def encode_query(text: str) -> bytes:
    data = text.encode("utf-8")
    n, varint = len(data), bytearray()
    while True:
        byte = n & 0x7F
        n >>= 7
        if n:
            varint.append(byte | 0x80)
        else:
            varint.append(byte)
            break
    return b"\x0a" + bytes(varint) + data


def main() -> None:
    target, path = sys.argv[1], sys.argv[2]
    calls = int(sys.argv[3]) if len(sys.argv) > 3 else 2000
    with open(path, encoding="utf-8") as f:
        queries = [json.loads(line)["query"] for line in f if line.strip()]
    channel = grpc.insecure_channel(target)
    search = channel.unary_unary(
        "/faq.v1.FaqService/Search",
        request_serializer=lambda b: b,
        response_deserializer=lambda b: b,
    )
    # Warm-up (connection, caches) with the file's last 50 queries: with the sentence encoder,
    # a question asked again reuses its vector, so the timed calls (from the first query on)
    # are all new questions when the file has at least CALLS + 50 of them.
    for q in queries[-50:]:
        search(encode_query(q), timeout=5)
    took = []
    for i in range(calls):
        body = encode_query(queries[i % len(queries)])
        start = time.perf_counter()
        search(body, timeout=5)
        took.append((time.perf_counter() - start) * 1000)
    took.sort()
    pct = lambda p: took[min(len(took) - 1, int(p * len(took)))]
    print(
        f"calls {calls}  p50 {pct(0.5):.3f} ms  p90 {pct(0.9):.3f} ms  "
        f"p99 {pct(0.99):.3f} ms  max {took[-1]:.3f} ms"
    )


if __name__ == "__main__":
    main()
