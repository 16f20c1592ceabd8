/**
 * Tracing: OpenTelemetry spans for each RPC (the caller's W3C trace context read from the gRPC
 * metadata), the write path's propose, Raft commit and apply, and HSM calls; exported over OTLP or
 * logged as {@code TracingSettings} says. Span attributes name methods, keys, commands, log indexes
 * and status codes, never key material, plaintext or ciphertext.
 */
package io.keyrotor.server.tracing;
