package io.keyrotor.server.config;

import static io.keyrotor.server.config.MinimalNodeConfig.base;
import static io.keyrotor.server.config.MinimalNodeConfig.parse;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.URI;
import java.util.Optional;
import java.util.Properties;
import org.junit.jupiter.api.Test;

/** The {@code tracing.*} options: off unless a destination is set. */
class NodeConfigTracingTest {
  @Test
  void defaults_off() throws Exception {
    assertEquals(TracingSettings.defaults(), parse(base()).tracing());
    assertFalse(parse(base()).tracing().enabled());
  }

  @Test
  void endpoint_turnsTracingOn_withTheTracesPathAdded() throws Exception {
    Properties p = base();
    p.setProperty("tracing.otlp.endpoint", "http://127.0.0.1:4318");
    p.setProperty("tracing.sample-ratio", "0.25");
    TracingSettings tracing = parse(p).tracing();
    assertTrue(tracing.enabled());
    assertEquals(
        Optional.of(URI.create("http://127.0.0.1:4318/v1/traces")), tracing.otlpEndpoint());
    assertFalse(tracing.log());
    assertEquals(0.25, tracing.sampleRatio());
  }

  @Test
  void endpointWithAPath_keptAsGiven() throws Exception {
    Properties p = base();
    p.setProperty("tracing.otlp.endpoint", "https://collector.example:443/otlp/v1/traces");
    assertEquals(
        Optional.of(URI.create("https://collector.example:443/otlp/v1/traces")),
        parse(p).tracing().otlpEndpoint());
  }

  @Test
  void logOnly_andExplicitlyOff() throws Exception {
    Properties p = base();
    p.setProperty("tracing.log", "true");
    assertTrue(parse(p).tracing().enabled());
    assertTrue(parse(p).tracing().log());
    p.setProperty("tracing.enabled", "false");
    assertFalse(parse(p).tracing().enabled());
  }

  @Test
  void badValues_refusedWithTheKeyNamed() {
    String[][] bad = {
      {"tracing.enabled", "true"},
      {"tracing.enabled", "yes"},
      {"tracing.log", "1"},
      {"tracing.sample-ratio", "1.5"},
      {"tracing.sample-ratio", "-0.1"},
      {"tracing.sample-ratio", "half"},
      {"tracing.otlp.endpoint", "collector:4317"},
      {"tracing.otlp.endpoint", "ftp://collector:4318"},
    };
    for (String[] setting : bad) {
      Properties p = base();
      p.setProperty(setting[0], setting[1]);
      ConfigException e = assertThrows(ConfigException.class, () -> parse(p), setting[1]);
      assertTrue(e.getMessage().contains(setting[0]), e.getMessage());
    }
  }
}
