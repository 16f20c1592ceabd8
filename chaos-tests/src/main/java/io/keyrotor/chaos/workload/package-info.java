/**
 * The workloads W1-W6 over one node API per node (the public gRPC API for real processes), the
 * workers that run them and record every operation into the history, and the final reads.
 */
package io.keyrotor.chaos.workload;
