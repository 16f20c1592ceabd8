package io.keyrotor.cli.events;

import io.nats.client.Connection;
import io.nats.client.JetStream;
import io.nats.client.JetStreamApiException;
import io.nats.client.JetStreamManagement;
import io.nats.client.JetStreamOptions;
import io.nats.client.Nats;
import io.nats.client.Options;
import io.nats.client.api.PublishAck;
import io.nats.client.api.StorageType;
import io.nats.client.api.StreamConfiguration;
import io.nats.client.impl.Headers;
import io.nats.client.impl.NatsMessage;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.concurrent.TimeoutException;

/**
 * Publishes key events to NATS one at a time, in log order, at least once: each event is sent, the
 * broker's acknowledgement awaited (a JetStream publish ack, or with core NATS a flush round trip),
 * and only then is its cursor written to the cursor file. A publisher that stops anywhere resumes
 * from that file, so an event is either acknowledged and recorded, or sent again: consumers see
 * each event at least once and drop repeats by the {@value #CURSOR_HEADER} header (JetStream drops
 * most of them itself, by the {@code Nats-Msg-Id} header, within its duplicate window).
 */
public final class NatsEventPublisher implements AutoCloseable {

  /** The header carrying the event's cursor, unique per event: the consumers' deduplication key. */
  public static final String CURSOR_HEADER = "Keyrotor-Cursor";

  private final Connection connection;
  private final JetStream jetStream;
  private final String subject;
  private final Path cursorFile;
  private final Duration ackTimeout;

  private NatsEventPublisher(
      Connection connection, JetStream jetStream, String subject, Path cursorFile, Duration ack) {
    this.connection = connection;
    this.jetStream = jetStream;
    this.subject = subject;
    this.cursorFile = cursorFile;
    this.ackTimeout = ack;
  }

  /**
   * Connects to {@code url}. With a {@code stream} name, publishes through JetStream and creates
   * the stream (file storage, on {@code subject}) if it does not exist; without, core NATS.
   */
  public static NatsEventPublisher connect(
      String url, String subject, String stream, Path cursorFile, Duration ackTimeout)
      throws IOException, InterruptedException {
    Options options =
        new Options.Builder()
            .server(url)
            .connectionName("keyrotor-events")
            .connectionTimeout(ackTimeout)
            .maxReconnects(-1)
            .build();
    Connection connection = Nats.connect(options);
    JetStream jetStream = null;
    if (stream != null) {
      try {
        JetStreamManagement management = connection.jetStreamManagement();
        if (!management.getStreamNames().contains(stream)) {
          management.addStream(
              StreamConfiguration.builder()
                  .name(stream)
                  .subjects(subject)
                  .storageType(StorageType.File)
                  .build());
        }
        jetStream =
            connection.jetStream(JetStreamOptions.builder().requestTimeout(ackTimeout).build());
      } catch (JetStreamApiException | IOException e) {
        connection.close();
        throw new IOException("JetStream stream " + stream + ": " + e.getMessage(), e);
      }
    }
    return new NatsEventPublisher(connection, jetStream, subject, cursorFile, ackTimeout);
  }

  /** The cursor recorded by the last run, or null when there is none yet. */
  public static String readCursor(Path cursorFile) throws IOException {
    if (!Files.exists(cursorFile)) {
      return null;
    }
    String cursor = Files.readString(cursorFile, StandardCharsets.UTF_8).strip();
    return cursor.isEmpty() ? null : cursor;
  }

  /**
   * Publishes one event (its JSON form as the body) and, once the broker acknowledged it, records
   * its cursor. Throws when the broker does not acknowledge within the timeout; nothing is recorded
   * then, so the event is sent again by the next run.
   */
  public void publish(String cursor, String eventType, String keyName, byte[] body)
      throws IOException, InterruptedException {
    Headers headers = new Headers();
    headers.add(CURSOR_HEADER, cursor);
    headers.add("Keyrotor-Event", eventType);
    headers.add("Keyrotor-Key", keyName);
    if (jetStream != null) {
      headers.add("Nats-Msg-Id", cursor);
      try {
        PublishAck ack =
            jetStream.publish(
                NatsMessage.builder().subject(subject).headers(headers).data(body).build());
        if (ack.hasError()) {
          throw new IOException("JetStream refused event " + cursor + ": " + ack.getError());
        }
      } catch (JetStreamApiException e) {
        throw new IOException("JetStream refused event " + cursor + ": " + e.getMessage(), e);
      }
    } else {
      connection.publish(
          NatsMessage.builder().subject(subject).headers(headers).data(body).build());
      try {
        connection.flush(ackTimeout);
      } catch (TimeoutException e) {
        throw new IOException("NATS did not confirm event " + cursor + " in " + ackTimeout, e);
      }
    }
    writeCursor(cursor);
  }

  /** Replaces the cursor file atomically (a temporary file renamed over it), owner-only. */
  private void writeCursor(String cursor) throws IOException {
    Path directory = cursorFile.toAbsolutePath().getParent();
    Files.createDirectories(directory);
    Path temporary =
        Files.createTempFile(
            directory,
            "." + cursorFile.getFileName(),
            ".tmp",
            PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
    try {
      Files.writeString(temporary, cursor + "\n", StandardCharsets.UTF_8);
      try {
        Files.move(temporary, cursorFile, StandardCopyOption.ATOMIC_MOVE);
      } catch (AtomicMoveNotSupportedException e) {
        Files.move(temporary, cursorFile, StandardCopyOption.REPLACE_EXISTING);
      }
    } finally {
      Files.deleteIfExists(temporary);
    }
  }

  @Override
  public void close() {
    try {
      connection.close();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }
}
