package io.keyrotor.server.hsm;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.keyrotor.hsm.Hsm;
import io.keyrotor.hsm.HsmConfig;
import io.keyrotor.hsm.Hsms;
import io.keyrotor.hsm.software.SoftwareKeyStoreFile;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class HsmHealthProbeTest {
  @TempDir Path dir;

  @Test
  void probe_keyFileGoneThenBack_reportsUnhealthyThenHealthyOnce() throws Exception {
    Path keyFile = dir.resolve("zmk.p12");
    char[] passphrase = "pass-1234".toCharArray();
    SoftwareKeyStoreFile.create(keyFile, passphrase);
    SoftwareKeyStoreFile.createZone(keyFile, passphrase, "default");
    List<Boolean> changes = new ArrayList<>();
    try (Hsm hsm = Hsms.open(HsmConfig.software(keyFile, passphrase))) {
      HsmHealthProbe probe = new HsmHealthProbe(hsm, changes::add);
      assertTrue(probe.probe());
      assertEquals(List.of(), changes);

      Path aside = dir.resolve("aside.p12");
      Files.move(keyFile, aside);
      assertFalse(probe.probe());
      assertFalse(probe.probe());
      assertFalse(hsm.describe().healthy());
      assertEquals(List.of(false), changes);

      Files.move(aside, keyFile, StandardCopyOption.REPLACE_EXISTING);
      Files.setLastModifiedTime(
          keyFile, java.nio.file.attribute.FileTime.fromMillis(System.currentTimeMillis() + 5_000));
      assertTrue(probe.probe());
      assertTrue(hsm.describe().healthy());
      assertEquals(List.of(false, true), changes);
    }
  }
}
