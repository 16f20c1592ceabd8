/**
 * The handlers of commands that create or change a key as a whole: creation, rotation (one or a
 * batch), rotation policy, dependents, bulk rotation and usage counts.
 */
package io.keyrotor.storage.apply.key;
