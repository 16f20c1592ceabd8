/**
 * The load generator: closed and open loops over async gRPC stubs, HdrHistogram latencies, the
 * targets it drives (keyrotor, a bare gRPC echo, etcd) and the report it prints and writes.
 */
package io.keyrotor.bench;
