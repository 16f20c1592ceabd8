package io.keyrotor.server.config;

import static io.keyrotor.server.config.MinimalNodeConfig.base;
import static io.keyrotor.server.config.MinimalNodeConfig.parse;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Map;
import java.util.Properties;
import org.junit.jupiter.api.Test;

/** {@code ratis.*} settings reach the Raft layer as they are, without the prefix. */
class NodeConfigRatisTest {
  @Test
  void none_byDefault() throws Exception {
    NodeConfig config = parse(base());
    assertTrue(config.ratisOverrides().isEmpty());
  }

  @Test
  void ratisKeys_passedWithoutThePrefix() throws Exception {
    Properties p = base();
    p.setProperty("ratis.raft.server.log.appender.wait-time.min", " 0ms ");
    p.setProperty("ratis.raft.server.log.force.sync.num", "16");
    NodeConfig config = parse(p);
    assertEquals(
        Map.of(
            "raft.server.log.appender.wait-time.min", "0ms",
            "raft.server.log.force.sync.num", "16"),
        config.ratisOverrides());
  }

  private static String refusal(String setting, String value) {
    Properties p = base();
    p.setProperty(setting, value);
    return assertThrows(ConfigException.class, () -> parse(p)).getMessage();
  }

  @Test
  void aValueRatisCannotRead_isAConfigErrorNamingTheSettingTheValueAndWhy() {
    assertEquals(
        "test.properties: ratis.raft.server.rpc.timeout.min=fast: not a duration (such as 500ms,"
            + " 3s or 2min)",
        refusal("ratis.raft.server.rpc.timeout.min", " fast "));
    assertEquals(
        "test.properties: ratis.raft.server.log.force.sync.num=sixteen: not a whole number (up to"
            + " 2147483647)",
        refusal("ratis.raft.server.log.force.sync.num", "sixteen"));
    String retry = refusal("ratis.raft.server.log.appender.retry.policy", "garbage");
    assertTrue(
        retry.startsWith(
            "test.properties: ratis.raft.server.log.appender.retry.policy=garbage: not a retry"
                + " policy (pairs of sleep time and retry count, such as \"1ms,10,"
                + " 100ms,1000000\"): "),
        retry);
  }
}
