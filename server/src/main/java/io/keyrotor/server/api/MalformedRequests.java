package io.keyrotor.server.api;

import io.grpc.Attributes;
import io.grpc.Metadata;
import io.grpc.MethodDescriptor;
import io.grpc.SecurityLevel;
import io.grpc.ServerCall;
import io.grpc.ServerCallHandler;
import io.grpc.ServerMethodDefinition;
import io.grpc.ServerServiceDefinition;
import io.grpc.ServiceDescriptor;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.keyrotor.api.v1.ErrorReason;
import java.io.InputStream;
import java.util.ArrayList;
import java.util.List;

/**
 * Request bytes that do not parse as the method's request message (a truncated field, a length past
 * the end, invalid UTF-8 in a string) are refused as INVALID_ARGUMENT with the ErrorInfo reason
 * {@link ErrorReason#INVALID_ARGUMENT} and the parser's words. Without this, gRPC parses the
 * request before any keyrotor code runs and answers UNKNOWN "Application error processing RPC",
 * which a client cannot tell from a server bug.
 *
 * <p>{@link #refusedAsInvalid} gives a service whose methods take the request as its bytes and
 * parse it inside the call, where a failure can be answered; the handlers and everything else are
 * the service's own.
 */
public final class MalformedRequests {
  private static final MethodDescriptor.Marshaller<InputStream> UNPARSED = new Unparsed();

  private MalformedRequests() {}

  /** {@code service}, with each method parsing its request itself and refusing what fails. */
  public static ServerServiceDefinition refusedAsInvalid(ServerServiceDefinition service) {
    ServiceDescriptor descriptor = service.getServiceDescriptor();
    ServiceDescriptor.Builder wrapped =
        ServiceDescriptor.newBuilder(descriptor.getName())
            .setSchemaDescriptor(descriptor.getSchemaDescriptor());
    List<ServerMethodDefinition<?, ?>> methods = new ArrayList<>();
    for (ServerMethodDefinition<?, ?> method : service.getMethods()) {
      ServerMethodDefinition<?, ?> parsing = parsingInside(method);
      methods.add(parsing);
      wrapped.addMethod(parsing.getMethodDescriptor());
    }
    ServerServiceDefinition.Builder builder = ServerServiceDefinition.builder(wrapped.build());
    methods.forEach(builder::addMethod);
    return builder.build();
  }

  private static <Q, R> ServerMethodDefinition<InputStream, R> parsingInside(
      ServerMethodDefinition<Q, R> definition) {
    MethodDescriptor<Q, R> typed = definition.getMethodDescriptor();
    MethodDescriptor<InputStream, R> unparsed =
        typed.toBuilder(UNPARSED, typed.getResponseMarshaller()).build();
    ServerCallHandler<Q, R> handler = definition.getServerCallHandler();
    return ServerMethodDefinition.create(
        unparsed,
        (call, headers) ->
            new ParsingListener<>(
                handler.startCall(new TypedCall<>(call, typed), headers), call, typed));
  }

  /** Parses each request message; on failure closes the call and forwards nothing more. */
  private static final class ParsingListener<Q, R> extends ServerCall.Listener<InputStream> {
    private final ServerCall.Listener<Q> delegate;
    private final ServerCall<InputStream, R> call;
    private final MethodDescriptor<Q, R> typed;
    private boolean refused;

    ParsingListener(
        ServerCall.Listener<Q> delegate,
        ServerCall<InputStream, R> call,
        MethodDescriptor<Q, R> typed) {
      this.delegate = delegate;
      this.call = call;
      this.typed = typed;
    }

    @Override
    public void onMessage(InputStream message) {
      if (refused) {
        return;
      }
      Q request;
      try {
        request = typed.parseRequest(message);
      } catch (RuntimeException e) {
        refused = true;
        StatusRuntimeException refusal =
            ApiErrors.malformedRequest(
                ErrorReason.INVALID_ARGUMENT,
                "the request is not a valid "
                    + typed.getFullMethodName()
                    + " request message: "
                    + parserWords(e));
        call.close(refusal.getStatus(), trailers(refusal));
        return;
      }
      delegate.onMessage(request);
    }

    @Override
    public void onHalfClose() {
      if (!refused) {
        delegate.onHalfClose();
      }
    }

    @Override
    public void onCancel() {
      delegate.onCancel();
    }

    @Override
    public void onComplete() {
      delegate.onComplete();
    }

    @Override
    public void onReady() {
      if (!refused) {
        delegate.onReady();
      }
    }

    private static String parserWords(RuntimeException e) {
      Throwable cause = e.getCause() != null ? e.getCause() : e;
      String words = cause.getMessage();
      return words == null || words.isBlank() ? "it does not parse" : words;
    }

    private static Metadata trailers(StatusRuntimeException refusal) {
      Metadata trailers = refusal.getTrailers();
      return trailers == null ? new Metadata() : trailers;
    }
  }

  /** The typed view of the call that the service's own handler is given. */
  private static final class TypedCall<Q, R> extends ServerCall<Q, R> {
    private final ServerCall<InputStream, R> call;
    private final MethodDescriptor<Q, R> typed;

    TypedCall(ServerCall<InputStream, R> call, MethodDescriptor<Q, R> typed) {
      this.call = call;
      this.typed = typed;
    }

    @Override
    public void request(int numMessages) {
      call.request(numMessages);
    }

    @Override
    public void sendHeaders(Metadata headers) {
      call.sendHeaders(headers);
    }

    @Override
    public void sendMessage(R message) {
      call.sendMessage(message);
    }

    @Override
    public boolean isReady() {
      return call.isReady();
    }

    @Override
    public void close(Status status, Metadata trailers) {
      call.close(status, trailers);
    }

    @Override
    public boolean isCancelled() {
      return call.isCancelled();
    }

    @Override
    public void setMessageCompression(boolean enabled) {
      call.setMessageCompression(enabled);
    }

    @Override
    public void setCompression(String compressor) {
      call.setCompression(compressor);
    }

    @Override
    public SecurityLevel getSecurityLevel() {
      return call.getSecurityLevel();
    }

    @Override
    public Attributes getAttributes() {
      return call.getAttributes();
    }

    @Override
    public String getAuthority() {
      return call.getAuthority();
    }

    @Override
    public MethodDescriptor<Q, R> getMethodDescriptor() {
      return typed;
    }
  }

  /** The request as the transport delivered it, parsed later by {@link ParsingListener}. */
  private static final class Unparsed implements MethodDescriptor.Marshaller<InputStream> {
    @Override
    public InputStream stream(InputStream value) {
      return value;
    }

    @Override
    public InputStream parse(InputStream stream) {
      return stream;
    }
  }
}
