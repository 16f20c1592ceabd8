package io.keyrotor.client.architecturefixture;

import io.keyrotor.proto.internal.v1.KeyRecord;

/** Deliberately bad: an SDK class that reads the server's internal records. */
public final class InternalRecordReader {
  private InternalRecordReader() {}

  public static String name(KeyRecord record) {
    return record.getName();
  }
}
