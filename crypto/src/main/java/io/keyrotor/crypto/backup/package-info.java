/**
 * keyrotor's backup file: one format written by the node that takes a backup, read by the offline
 * verifier and by restore. JDK only, so every module that handles backups shares it.
 */
package io.keyrotor.crypto.backup;
