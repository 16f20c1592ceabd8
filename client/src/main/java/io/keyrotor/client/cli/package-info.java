/**
 * The {@code keyrotor} command line ({@code scripts/keyrotor}): key, data-key, envelope
 * (encrypt/decrypt/reencrypt) and cluster commands over the SDK, with compact tables for people,
 * {@code --json} for scripts and one-line errors.
 */
package io.keyrotor.client.cli;
