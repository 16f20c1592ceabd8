package io.keyrotor.server;

import com.google.protobuf.Any;
import com.google.protobuf.InvalidProtocolBufferException;
import com.google.rpc.ErrorInfo;
import io.grpc.StatusRuntimeException;
import io.grpc.protobuf.StatusProto;
import java.util.Map;

/** Reads the ErrorInfo detail of a keyrotor status in tests. */
final class GrpcErrors {
  private GrpcErrors() {}

  static ErrorInfo info(StatusRuntimeException e) {
    com.google.rpc.Status status = StatusProto.fromThrowable(e);
    if (status != null) {
      for (Any detail : status.getDetailsList()) {
        if (detail.is(ErrorInfo.class)) {
          try {
            return detail.unpack(ErrorInfo.class);
          } catch (InvalidProtocolBufferException ignored) {
            break;
          }
        }
      }
    }
    return ErrorInfo.getDefaultInstance();
  }

  static String reason(StatusRuntimeException e) {
    return info(e).getReason();
  }

  static Map<String, String> metadata(StatusRuntimeException e) {
    return info(e).getMetadataMap();
  }
}
