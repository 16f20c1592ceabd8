package io.keyrotor.hsm;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class SecretSourcesTest {
  @TempDir Path directory;

  @Test
  void fromFile_ownerOnlyFile_returnsContentWithoutTrailingNewline() throws Exception {
    Path file = directory.resolve("pin");
    Files.writeString(file, "1234-pin\n");
    Files.setPosixFilePermissions(file, PosixFilePermissions.fromString("rw-------"));

    assertArrayEquals("1234-pin".toCharArray(), SecretSources.fromFile(file));
  }

  @Test
  void fromFile_readableByOthersOrMissing_failsWithHsmUnavailable() throws Exception {
    Path file = directory.resolve("pin");
    Files.writeString(file, "1234-pin");
    Files.setPosixFilePermissions(file, PosixFilePermissions.fromString("rw-r--r--"));

    HsmException open = assertThrows(HsmException.class, () -> SecretSources.fromFile(file));
    HsmException missing =
        assertThrows(HsmException.class, () -> SecretSources.fromFile(directory.resolve("none")));

    assertEquals(HsmException.Reason.HSM_UNAVAILABLE, open.reason());
    assertTrue(open.getMessage().contains("chmod 600"), open.getMessage());
    assertEquals(HsmException.Reason.HSM_UNAVAILABLE, missing.reason());
  }

  @Test
  void fromEnvironment_unsetVariable_failsWithHsmUnavailable() {
    assertEquals(
        HsmException.Reason.HSM_UNAVAILABLE,
        assertThrows(
                HsmException.class,
                () -> SecretSources.fromEnvironment("KEYROTOR_TEST_SURELY_UNSET_VARIABLE"))
            .reason());
  }
}
