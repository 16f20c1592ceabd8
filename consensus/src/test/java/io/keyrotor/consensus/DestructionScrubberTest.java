package io.keyrotor.consensus;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.OptionalLong;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * How the scrubber reads Ratis's log layout ({@code <raft>/<group>/current/log_<start>-<end>} and
 * {@code log_inprogress_<start>}); the scrub itself is tested on a cluster (DestructionScrubIT).
 */
class DestructionScrubberTest {
  @TempDir Path raft;

  @Test
  void segments_openAndFirstStartIndexes_fromRatisFileNames() throws Exception {
    Path current = Files.createDirectories(raft.resolve("0f1e2d3c").resolve("current"));
    Files.createFile(current.resolve("log_1-120"));
    Files.createFile(current.resolve("log_121-300"));
    Files.createFile(current.resolve("log_inprogress_301"));
    Files.createFile(current.resolve("raft-meta"));
    Files.createDirectories(raft.resolve("0f1e2d3c").resolve("sm").resolve("snapshots"));

    assertEquals(OptionalLong.of(301), DestructionScrubber.openSegmentStart(raft));
    assertEquals(OptionalLong.of(1), DestructionScrubber.firstSegmentStart(raft));
  }

  @Test
  void segments_noneYet_orNoDirectory() throws Exception {
    assertEquals(OptionalLong.empty(), DestructionScrubber.openSegmentStart(raft));
    assertEquals(
        OptionalLong.empty(), DestructionScrubber.firstSegmentStart(raft.resolve("missing")));
  }
}
