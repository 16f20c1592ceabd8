/**
 * JMH micro-benchmarks of server internals, in-process: the server-side work of one Decrypt against
 * raw JDK AES-GCM of the same bytes, and KEK unwraps through SoftHSM2 against the software HSM. The
 * only package of the bench module allowed to use keyrotor's server, consensus and HSM classes (the
 * load generator speaks the public API only).
 */
package io.keyrotor.bench.micro;
