/**
 * Who may do what: the authorisation step every write RPC passes after its input is validated and
 * before anything is built or proposed ({@link io.keyrotor.server.access.Authorizer}).
 */
package io.keyrotor.server.access;
