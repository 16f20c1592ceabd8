/**
 * The chaos hook, present only on nodes started with {@code chaos.enabled=true}: an adjustable
 * clock and the chaos gRPC service the chaos suite drives its clock and slow-link faults through.
 */
package io.keyrotor.server.chaos;
