/**
 * The in-memory views of the replicated records (keys, keys awaiting validation, nodes, zone master
 * keys, bulk rotations), loaded when the store opens and kept in step by every applied command.
 */
package io.keyrotor.storage.view;
