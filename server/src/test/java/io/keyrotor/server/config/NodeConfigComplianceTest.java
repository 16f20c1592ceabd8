package io.keyrotor.server.config;

import static io.keyrotor.server.config.MinimalNodeConfig.base;
import static io.keyrotor.server.config.MinimalNodeConfig.parse;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Map;
import java.util.Properties;
import java.util.TreeSet;
import org.junit.jupiter.api.Test;

/** The {@code compliance.*} options: the zones a policy template's keys may live in. */
class NodeConfigComplianceTest {
  @Test
  void defaults_everyTemplateAllowsAnyZone() throws Exception {
    assertEquals(Map.of(), parse(base()).compliance().templateZones());
  }

  @Test
  void templateZones_parsedSorted() throws Exception {
    Properties p = base();
    p.setProperty("compliance.template.pci-dss.zones", "pci, default");
    p.setProperty("compliance.template.hipaa.zones", "phi");
    ComplianceSettings compliance = parse(p).compliance();
    assertEquals(
        Map.of(
            "pci-dss", new TreeSet<>(java.util.List.of("default", "pci")),
            "hipaa", new TreeSet<>(java.util.List.of("phi"))),
        compliance.templateZones());
  }

  @Test
  void badKeys_refusedWithTheKeyNamed() {
    for (String[] bad :
        new String[][] {
          {"compliance.template.sox.zones", "default"},
          {"compliance.template.pci-dss.zones", " , "},
          {"compliance.templates", "pci-dss"},
          {"compliance.template.pci-dss.regions", "eu"}
        }) {
      Properties p = base();
      p.setProperty(bad[0], bad[1]);
      ConfigException e = assertThrows(ConfigException.class, () -> parse(p), bad[0]);
      assertTrue(e.getMessage().contains(bad[0]), e.getMessage());
    }
  }
}
