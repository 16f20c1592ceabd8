package io.keyrotor.server.config;

import static io.keyrotor.server.config.MinimalNodeConfig.base;
import static io.keyrotor.server.config.MinimalNodeConfig.parse;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Properties;
import org.junit.jupiter.api.Test;

/** The {@code storage.*} options: the bound of the key record cache. */
class NodeConfigStorageTest {
  @Test
  void defaults_aKeyCacheOf64MiB() throws Exception {
    assertEquals(64L << 20, parse(base()).storage().keyCacheBytes());
  }

  @Test
  void explicitValues_bytesOrWithASuffix() throws Exception {
    for (String[] value :
        new String[][] {
          {"1048576", "1048576"}, {"512k", "524288"}, {"2G", "2147483648"}, {"0", "0"}
        }) {
      Properties p = base();
      p.setProperty("storage.key-cache-bytes", value[0]);
      assertEquals(Long.parseLong(value[1]), parse(p).storage().keyCacheBytes(), value[0]);
    }
  }

  @Test
  void badValues_refusedWithTheKeyNamed() {
    for (String bad : new String[] {"-1", "lots", "12t", "99999999999g"}) {
      Properties p = base();
      p.setProperty("storage.key-cache-bytes", bad);
      ConfigException e = assertThrows(ConfigException.class, () -> parse(p), bad);
      assertTrue(e.getMessage().contains("storage.key-cache-bytes"), e.getMessage());
    }
  }
}
