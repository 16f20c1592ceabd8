/**
 * The gRPC services, adapters from the API to the node: the write path every write RPC takes
 * (validation, authorisation, command building, proposal, answer), the reads and the views of the
 * replicated state they return, the data plane's gRPC side, and the one error mapper.
 */
package io.keyrotor.server.api;
