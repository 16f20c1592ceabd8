package io.keyrotor.bench;

/**
 * One side of an A/B comparison: what runs ({@code op}), labelled with the comparison it belongs to
 * ({@code scenario}) and the system or variant it measures ({@code target}).
 */
record Arm(String scenario, String target, Operation op) {}
