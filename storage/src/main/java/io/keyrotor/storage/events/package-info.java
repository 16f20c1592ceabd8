/**
 * The lifecycle event stream: events appended in log order, read after a cursor or by key, awaited.
 */
package io.keyrotor.storage.events;
