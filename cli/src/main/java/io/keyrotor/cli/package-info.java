/**
 * The {@code keyrotor} command line ({@code scripts/keyrotor}): key (lifecycle and rotation
 * engine), rotations, data-key, envelope (encrypt/decrypt/reencrypt), cluster and zone commands
 * over the SDK, with compact tables for people, {@code --json} for scripts and one-line errors.
 */
package io.keyrotor.cli;
