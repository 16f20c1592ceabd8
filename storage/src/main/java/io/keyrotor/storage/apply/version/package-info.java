/**
 * The handlers of commands about one version of a key: its status, its destroy schedule, the
 * version floors, validation acknowledgements, cancelled and rolled-back rotations and recorded
 * activations. Every status change goes through {@link
 * io.keyrotor.storage.lifecycle.VersionLifecycle}.
 */
package io.keyrotor.storage.apply.version;
