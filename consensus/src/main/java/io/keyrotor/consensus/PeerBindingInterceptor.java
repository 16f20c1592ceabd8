package io.keyrotor.consensus;

import io.keyrotor.tls.Identities;
import java.security.cert.Certificate;
import java.security.cert.X509Certificate;
import java.util.List;
import javax.net.ssl.SSLPeerUnverifiedException;
import javax.net.ssl.SSLSession;
import org.apache.ratis.proto.RaftProtos.RaftRpcRequestProto;
import org.apache.ratis.proto.grpc.AdminProtocolServiceGrpc;
import org.apache.ratis.proto.grpc.RaftClientProtocolServiceGrpc;
import org.apache.ratis.proto.grpc.RaftServerProtocolServiceGrpc;
import org.apache.ratis.protocol.ClientId;
import org.apache.ratis.protocol.RaftPeerId;
import org.apache.ratis.thirdparty.com.google.protobuf.Descriptors.FieldDescriptor;
import org.apache.ratis.thirdparty.com.google.protobuf.Message;
import org.apache.ratis.thirdparty.io.grpc.ForwardingServerCallListener;
import org.apache.ratis.thirdparty.io.grpc.Grpc;
import org.apache.ratis.thirdparty.io.grpc.Metadata;
import org.apache.ratis.thirdparty.io.grpc.ServerCall;
import org.apache.ratis.thirdparty.io.grpc.ServerCallHandler;
import org.apache.ratis.thirdparty.io.grpc.ServerInterceptor;
import org.apache.ratis.thirdparty.io.grpc.Status;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Binds every request on the Raft port to the certificate it arrives with (mutual TLS only). The
 * caller's certificate must name a member of the current configuration (checked again on every
 * call, since a connection outlives a configuration change), and each request must speak for that
 * member: a Raft server request (vote, append, snapshot, read index, election) must carry the
 * member's peer id as its requestor, a client or admin request a client id of that member ({@link
 * RaftIdentities}). Anything else is closed with PERMISSION_DENIED before Ratis sees it.
 */
final class PeerBindingInterceptor implements ServerInterceptor {
  private static final Logger LOG = LoggerFactory.getLogger(PeerBindingInterceptor.class);

  private final Membership membership;

  PeerBindingInterceptor(Membership membership) {
    this.membership = membership;
  }

  @Override
  public <Q, R> ServerCall.Listener<Q> interceptCall(
      ServerCall<Q, R> call, Metadata headers, ServerCallHandler<Q, R> next) {
    String service = call.getMethodDescriptor().getServiceName();
    boolean serverProtocol = RaftServerProtocolServiceGrpc.SERVICE_NAME.equals(service);
    boolean clientProtocol =
        RaftClientProtocolServiceGrpc.SERVICE_NAME.equals(service)
            || AdminProtocolServiceGrpc.SERVICE_NAME.equals(service);
    if (!serverProtocol && !clientProtocol) {
      return refuse(call, "no such service on the Raft port: " + service);
    }
    List<String> named = nodeIdsOfPeer(call.getAttributes().get(Grpc.TRANSPORT_ATTR_SSL_SESSION));
    List<String> members = named.stream().filter(membership::isMember).toList();
    if (members.isEmpty()) {
      return refuse(
          call,
          "the caller's certificate names no member of the Raft group (it names "
              + (named.isEmpty() ? "no node" : named)
              + ")");
    }
    ServerCall.Listener<Q> delegate = next.startCall(call, headers);
    return new ForwardingServerCallListener.SimpleForwardingServerCallListener<Q>(delegate) {
      private boolean refused;

      @Override
      public void onMessage(Q message) {
        if (refused) {
          return;
        }
        String problem = check(message, members, serverProtocol);
        if (problem != null) {
          refused = true;
          LOG.warn(
              "Raft port: refused {} from {}: {}", call.getMethodDescriptor(), members, problem);
          call.close(Status.PERMISSION_DENIED.withDescription(problem), new Metadata());
          return;
        }
        super.onMessage(message);
      }

      @Override
      public void onHalfClose() {
        if (!refused) {
          super.onHalfClose();
        }
      }

      @Override
      public void onReady() {
        if (!refused) {
          super.onReady();
        }
      }
    };
  }

  /** Why {@code message} may not be accepted from a caller that is {@code members}, or null. */
  private static String check(Object message, List<String> members, boolean serverProtocol) {
    RaftRpcRequestProto rpc = rpcRequestOf(message);
    if (rpc == null) {
      return "a request without a requestor";
    }
    if (serverProtocol) {
      String requestor = RaftPeerId.valueOf(rpc.getRequestorId()).toString();
      return members.contains(requestor)
          ? null
          : "a Raft request from " + requestor + " over a connection of " + members;
    }
    ClientId clientId;
    try {
      clientId = ClientId.valueOf(rpc.getRequestorId());
    } catch (RuntimeException e) {
      return "not a client id";
    }
    return RaftIdentities.memberOf(clientId, members).isPresent()
        ? null
        : "client " + clientId + " is not one of " + members;
  }

  /** The message's RaftRpcRequestProto field (its requestor), or null if it has none. */
  private static RaftRpcRequestProto rpcRequestOf(Object message) {
    if (!(message instanceof Message proto)) {
      return null;
    }
    for (FieldDescriptor field : proto.getDescriptorForType().getFields()) {
      if (field.getJavaType() == FieldDescriptor.JavaType.MESSAGE
          && field.getMessageType().equals(RaftRpcRequestProto.getDescriptor())
          && proto.hasField(field)) {
        return (RaftRpcRequestProto) proto.getField(field);
      }
    }
    return null;
  }

  private static List<String> nodeIdsOfPeer(SSLSession session) {
    if (session == null) {
      return List.of();
    }
    try {
      Certificate[] chain = session.getPeerCertificates();
      if (chain.length > 0 && chain[0] instanceof X509Certificate leaf) {
        return Identities.nodeIdsOf(leaf);
      }
    } catch (SSLPeerUnverifiedException e) {
      return List.of();
    }
    return List.of();
  }

  private static <Q, R> ServerCall.Listener<Q> refuse(ServerCall<Q, R> call, String why) {
    LOG.warn("Raft port: refused {}: {}", call.getMethodDescriptor().getFullMethodName(), why);
    call.close(Status.PERMISSION_DENIED.withDescription(why), new Metadata());
    return new ServerCall.Listener<Q>() {};
  }
}
