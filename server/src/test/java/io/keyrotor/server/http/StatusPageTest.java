package io.keyrotor.server.http;

import static org.junit.jupiter.api.Assertions.assertEquals;

import org.junit.jupiter.api.Test;

/** What the status page puts in its HTML for a value it shows. */
class StatusPageTest {

  @Test
  void esc_markupAndBothQuotes_becomeCharacterReferences() {
    assertEquals(
        "&lt;td class=&quot;role&quot;&gt;O&#39;Brien &amp; co&lt;/td&gt;",
        StatusPage.esc("<td class=\"role\">O'Brien & co</td>"));
  }

  @Test
  void esc_plainTextAndNonAscii_unchanged() {
    assertEquals("n1 — 127.0.0.1:7101 (LEADER)", StatusPage.esc("n1 — 127.0.0.1:7101 (LEADER)"));
  }
}
