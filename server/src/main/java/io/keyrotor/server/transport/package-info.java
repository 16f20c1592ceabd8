/**
 * Transport security of the node's gRPC API: mutual TLS 1.3 with credentials that reload changed
 * files ({@link io.keyrotor.server.transport.ApiTransport}), the authentication of every call by
 * its client certificate ({@link io.keyrotor.server.transport.Authentication}), and the
 * certificate's state in the node status.
 */
package io.keyrotor.server.transport;
