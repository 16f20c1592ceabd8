package io.keyrotor.server;

import com.google.protobuf.Duration;
import com.google.protobuf.Timestamp;

/** Milliseconds to and from the protobuf time types, for tests that build expected reports. */
final class ProtoTimes {
  private ProtoTimes() {}

  static Timestamp timestamp(long millis) {
    return Timestamp.newBuilder()
        .setSeconds(millis / 1000)
        .setNanos((int) (millis % 1000) * 1_000_000)
        .build();
  }

  static long millis(Timestamp t) {
    return t.getSeconds() * 1000 + t.getNanos() / 1_000_000;
  }

  static Duration durationOfMillis(long millis) {
    return Duration.newBuilder()
        .setSeconds(millis / 1000)
        .setNanos((int) (millis % 1000) * 1_000_000)
        .build();
  }
}
