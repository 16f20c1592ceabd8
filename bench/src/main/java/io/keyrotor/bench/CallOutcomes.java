package io.keyrotor.bench;

import com.google.protobuf.Any;
import com.google.protobuf.InvalidProtocolBufferException;
import com.google.rpc.ErrorInfo;
import io.grpc.protobuf.StatusProto;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.atomic.LongAdder;

/**
 * Counts the outcomes of a client's calls by kind: succeeded, refused by design (a listed reason,
 * such as a Decrypt of a data key whose version a compromise rotation disabled), and failed (every
 * other error, by code and reason).
 */
final class CallOutcomes {
  private final Set<String> refusedByDesign;
  private final LongAdder ok = new LongAdder();
  private final LongAdder refused = new LongAdder();
  private final Map<String, LongAdder> failed = new java.util.concurrent.ConcurrentHashMap<>();

  CallOutcomes(Set<String> refusedByDesign) {
    this.refusedByDesign = Set.copyOf(refusedByDesign);
  }

  void succeeded() {
    ok.increment();
  }

  void failed(String call, Throwable t) {
    String reason = reason(t);
    if (refusedByDesign.contains(reason)) {
      refused.increment();
    } else {
      String code = LoadRunner.errorName(t);
      failed
          .computeIfAbsent(
              call + ":" + code + (reason.isEmpty() ? "" : "/" + reason), k -> new LongAdder())
          .increment();
    }
  }

  long ok() {
    return ok.sum();
  }

  long refused() {
    return refused.sum();
  }

  long failedCount() {
    return failed.values().stream().mapToLong(LongAdder::sum).sum();
  }

  Map<String, Long> failures() {
    Map<String, Long> out = new TreeMap<>();
    failed.forEach((k, v) -> out.put(k, v.sum()));
    return out;
  }

  /** The ErrorInfo reason of a gRPC failure, or "" if it carries none. */
  static String reason(Throwable t) {
    return errorInfo(t).map(ErrorInfo::getReason).orElse("");
  }

  /** The google.rpc.ErrorInfo detail of a gRPC failure, if it carries one. */
  static Optional<ErrorInfo> errorInfo(Throwable t) {
    com.google.rpc.Status status = StatusProto.fromThrowable(t);
    if (status == null) {
      return Optional.empty();
    }
    for (Any detail : status.getDetailsList()) {
      if (detail.is(ErrorInfo.class)) {
        try {
          return Optional.of(detail.unpack(ErrorInfo.class));
        } catch (InvalidProtocolBufferException e) {
          return Optional.empty();
        }
      }
    }
    return Optional.empty();
  }
}
