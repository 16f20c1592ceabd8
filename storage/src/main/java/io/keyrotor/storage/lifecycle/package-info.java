/** The lifecycle of a key version's stored status: every allowed move and the event it emits. */
package io.keyrotor.storage.lifecycle;
