/**
 * Group commit on the apply side: a batch entry (several commands in one log entry) applied command
 * by command, with the entry's progress stored so a replay after a crash resumes after the last
 * command written.
 */
package io.keyrotor.storage.groupcommit;
