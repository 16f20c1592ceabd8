/**
 * Applying a log command: the dispatcher that hands each command kind to its handler, the effects a
 * handler computes (result, records to write, events, audit action) and the steps handlers share.
 */
package io.keyrotor.storage.apply;
