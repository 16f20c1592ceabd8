package io.keyrotor.chaos.history;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.Reader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/** Reads {@code history.jsonl}: one event per line; blank lines are ignored. */
public final class HistoryReader {
  private HistoryReader() {}

  /** The events of the file, in file order. */
  public static List<Event> read(Path path) throws IOException {
    try (BufferedReader reader = Files.newBufferedReader(path, StandardCharsets.UTF_8)) {
      return read(reader, path.toString());
    }
  }

  /**
   * The events read from {@code in}, in order.
   *
   * @throws HistoryException naming the line if a line is not an event
   */
  public static List<Event> read(Reader in, String sourceName) throws IOException {
    BufferedReader reader = in instanceof BufferedReader b ? b : new BufferedReader(in);
    List<Event> events = new ArrayList<>();
    String line;
    int lineNumber = 0;
    while ((line = reader.readLine()) != null) {
      lineNumber++;
      if (line.isBlank()) {
        continue;
      }
      try {
        events.add(HistoryCodec.fromJsonLine(line));
      } catch (IllegalArgumentException e) {
        throw new HistoryException(sourceName + ":" + lineNumber + ": " + e.getMessage(), e);
      }
    }
    return events;
  }
}
