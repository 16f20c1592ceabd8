/**
 * The general linearizability checker: Wing and Gong's search with Lowe's memoization (as in
 * Porcupine), per-key partitioning, indeterminate operations, budgets, and the models it checks
 * against (a register and a compare-and-set register).
 */
package io.keyrotor.chaos.checker.linearizability;
