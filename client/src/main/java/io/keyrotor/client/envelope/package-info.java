/**
 * Envelope encryption over keyrotor data keys: {@link io.keyrotor.client.envelope.EnvelopeCipher}
 * seals payloads locally with AES-256-GCM under server-generated data keys, in one-shot and
 * streaming envelope formats (docs/envelope-format.md), with optional bounded caches of data keys.
 */
package io.keyrotor.client.envelope;
