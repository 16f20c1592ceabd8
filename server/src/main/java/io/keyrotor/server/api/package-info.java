/**
 * The gRPC services: request validation, command building, error mapping and the views of the
 * replicated state that the API returns.
 */
package io.keyrotor.server.api;
