/**
 * The history of a chaos run: events recorded on one driver clock, written as JSON Lines, read
 * back, validated and paired into operations for the checkers.
 */
package io.keyrotor.chaos.history;
