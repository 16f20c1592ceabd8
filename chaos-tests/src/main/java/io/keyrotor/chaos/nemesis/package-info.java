/**
 * Faults against a running cluster, scheduled from a seed and journaled into the history: network
 * partitions, packet loss and slow links, kill -9 and restart, SIGSTOP pauses, clock bumps and
 * strobes through the chaos hook, leadership transfer.
 */
package io.keyrotor.chaos.nemesis;
