package io.keyrotor.server.api;

import io.keyrotor.api.v1.ComplianceFinding;
import io.keyrotor.api.v1.ComplianceKeyChunk;
import io.keyrotor.api.v1.ComplianceReportChunk;
import io.keyrotor.api.v1.ComplianceReportHeader;
import io.keyrotor.api.v1.ComplianceReportSummary;
import io.keyrotor.api.v1.ErrorReason;
import io.keyrotor.api.v1.FindingCount;
import io.keyrotor.api.v1.FindingKind;
import io.keyrotor.api.v1.KeyCompliance;
import io.keyrotor.api.v1.NodeResidency;
import io.keyrotor.api.v1.PolicyTemplate;
import io.keyrotor.api.v1.StreamComplianceReportRequest;
import io.keyrotor.api.v1.TemplateCount;
import io.keyrotor.api.v1.ZoneResidency;
import io.keyrotor.proto.internal.v1.DestructionReceiptRecord;
import io.keyrotor.proto.internal.v1.KeyRecord;
import io.keyrotor.proto.internal.v1.NodeRecord;
import io.keyrotor.storage.AppliedPosition;
import io.keyrotor.storage.StateView;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.NavigableMap;
import java.util.NavigableSet;
import java.util.NoSuchElementException;
import java.util.Optional;
import java.util.TreeMap;
import java.util.TreeSet;

/**
 * The compliance report as a sequence of chunks: a header, the keys in name order in chunks of a
 * bounded size, a summary. Everything comes from one {@link Snapshot} of the replicated state, read
 * at one applied index ({@link #read}); the chunks are made as the stream asks for them, so only
 * one chunk of entries is held at a time beside the snapshot's record references.
 */
final class ComplianceReports {
  static final int DEFAULT_KEYS_PER_CHUNK = 100;
  static final int MAX_KEYS_PER_CHUNK = 1000;
  static final Duration DEFAULT_RETIRED_DECRYPT_AFTER = Duration.ofDays(365);

  /** Reads of the state before giving up when entries apply under every one of them. */
  static final int READ_ATTEMPTS = 100;

  /** The retry delay an UNAVAILABLE REPORT_STATE_MOVING suggests. */
  static final long RETRY_DELAY_MILLIS = 1000;

  private ComplianceReports() {}

  /**
   * A checked request.
   *
   * @param asOfMillis the evaluation time the request names; 0: the node's clock
   */
  record Query(String template, int keysPerChunk, long asOfMillis, long retiredDecryptAfterMillis) {
    /** INVALID_ARGUMENT for an unknown template, a chunk size out of bounds or a bad time. */
    static Query of(StreamComplianceReportRequest request) {
      String template = request.getTemplate();
      if (!template.isEmpty() && PolicyTemplates.template(template).isEmpty()) {
        throw ApiErrors.invalid(
            "template",
            ErrorReason.UNKNOWN_TEMPLATE,
            "unknown policy template \""
                + template
                + "\"; known templates: "
                + String.join(", ", PolicyTemplates.names()));
      }
      long size = Integer.toUnsignedLong(request.getKeysPerChunk());
      if (size > MAX_KEYS_PER_CHUNK) {
        throw ApiErrors.invalid(
            "keys_per_chunk",
            ErrorReason.INVALID_PAGE_SIZE,
            "keys_per_chunk must be at most " + MAX_KEYS_PER_CHUNK + ", got " + size);
      }
      long asOf = request.hasAsOfTime() ? Requests.millis(request.getAsOfTime(), "as_of_time") : 0;
      long retired =
          request.hasRetiredDecryptAfter()
              ? Requests.millis(request.getRetiredDecryptAfter(), "retired_decrypt_after")
              : DEFAULT_RETIRED_DECRYPT_AFTER.toMillis();
      return new Query(template, size == 0 ? DEFAULT_KEYS_PER_CHUNK : (int) size, asOf, retired);
    }
  }

  /** The records the report is made of, all read at {@code position}. */
  record Snapshot(
      AppliedPosition position,
      String digest,
      long lastCommandTimeMillis,
      List<KeyRecord> keys,
      List<NodeRecord> nodes,
      ComplianceEvidenceReader.Evidence evidence) {}

  /**
   * The state at one applied index: read again while entries apply during the read, and UNAVAILABLE
   * REPORT_STATE_MOVING (with a retry delay) when they did under every attempt.
   */
  static Snapshot read(StateView state) {
    for (int attempt = 0; attempt < READ_ATTEMPTS; attempt++) {
      Optional<StateView.AtPosition<Snapshot>> read =
          state.readAtOnePosition(
              s -> {
                List<KeyRecord> keys = keysOf(s);
                return new Snapshot(
                    AppliedPosition.INITIAL,
                    s.digest(),
                    s.lastCommandTimeMillis(),
                    keys,
                    List.copyOf(s.nodes().values()),
                    ComplianceEvidenceReader.read(s, keys));
              });
      if (read.isPresent()) {
        Snapshot found = read.get().value();
        return new Snapshot(
            read.get().position(),
            found.digest(),
            found.lastCommandTimeMillis(),
            found.keys(),
            found.nodes(),
            found.evidence());
      }
      java.util.concurrent.locks.LockSupport.parkNanos(1_000_000L);
    }
    throw ApiErrors.unavailable(
        ErrorReason.REPORT_STATE_MOVING,
        "the node applied log entries during each of "
            + READ_ATTEMPTS
            + " reads of its state; retry",
        RETRY_DELAY_MILLIS);
  }

  /**
   * Every key of the state, in name order: the one place the report iterates keys, so a store that
   * streams keys from disk replaces this method only.
   */
  static List<KeyRecord> keysOf(StateView state) {
    List<KeyRecord> keys = new java.util.ArrayList<>();
    state.allKeys().forEach(keys::add);
    return keys;
  }

  /**
   * The report's chunks.
   *
   * @param nowMillis the time states and ages are evaluated at
   */
  static Iterator<ComplianceReportChunk> chunks(
      Snapshot snapshot, Query query, TemplateZones zones, String nodeId, long nowMillis) {
    NavigableMap<String, NavigableSet<String>> nodesByZone = new TreeMap<>();
    for (NodeRecord node : snapshot.nodes()) {
      for (String zone : node.getZonesList()) {
        nodesByZone.computeIfAbsent(zone, z -> new TreeSet<>()).add(node.getId());
      }
    }
    List<KeyRecord> keys = new ArrayList<>();
    NavigableMap<String, Long> keysByZone = new TreeMap<>();
    for (KeyRecord key : snapshot.keys()) {
      if (query.template().isEmpty() || query.template().equals(key.getPolicy().getTemplate())) {
        keys.add(key);
        keysByZone.merge(key.getZone(), 1L, Long::sum);
      }
    }
    ComplianceReportChunk header =
        ComplianceReportChunk.newBuilder()
            .setHeader(header(snapshot, query, zones, nodeId, nowMillis, nodesByZone, keysByZone))
            .build();
    KeyComplianceCheck check =
        new KeyComplianceCheck(zones, nowMillis, query.retiredDecryptAfterMillis());
    return new Chunks(
        header,
        keys,
        query.keysPerChunk(),
        check,
        nodesByZone,
        snapshot.evidence().receiptsByKey());
  }

  private static ComplianceReportHeader header(
      Snapshot snapshot,
      Query query,
      TemplateZones zones,
      String nodeId,
      long nowMillis,
      NavigableMap<String, NavigableSet<String>> nodesByZone,
      NavigableMap<String, Long> keysByZone) {
    ComplianceReportHeader.Builder out =
        ComplianceReportHeader.newBuilder()
            .setAppliedIndex(snapshot.position().index())
            .setAppliedTerm(snapshot.position().term())
            .setStateDigest(snapshot.digest())
            .setEvaluatedTime(KeyViews.timestamp(nowMillis))
            .setNodeId(nodeId)
            .setTemplateFilter(query.template())
            .setRetiredDecryptAfter(KeyViews.duration(query.retiredDecryptAfterMillis()))
            .setAuditChain(snapshot.evidence().auditChain())
            .setDestructionReceipts(snapshot.evidence().destructionReceipts());
    for (PolicyTemplates.Template template : PolicyTemplates.all().values()) {
      out.addTemplates(
          PolicyTemplate.newBuilder()
              .setName(template.name())
              .setPolicy(KeyViews.policy(template.policy()))
              .addAllAllowedZones(zones.allowed(template.name()).orElse(new TreeSet<>()))
              .setSource(template.source()));
    }
    for (NodeRecord node : snapshot.nodes()) {
      out.addNodes(
          NodeResidency.newBuilder()
              .setNodeId(node.getId())
              .setRegion(node.getRegion())
              .addAllZones(node.getZonesList())
              .setHsmKind(node.getHsmKind())
              .setHsmModule(node.getHsmModule())
              .setHsmTokenLabel(node.getHsmTokenLabel())
              .addAllHsmMechanisms(node.getHsmMechanismsList())
              .setHsmDescription(node.getHsmDescription())
              .setRegisteredTime(KeyViews.timestamp(node.getRegisteredTimeUnixMillis())));
    }
    NavigableSet<String> allZones = new TreeSet<>(nodesByZone.keySet());
    allZones.addAll(keysByZone.keySet());
    for (String zone : allZones) {
      out.addZones(
          ZoneResidency.newBuilder()
              .setZone(zone)
              .addAllNodeIds(nodesByZone.getOrDefault(zone, new TreeSet<>()))
              .setKeys(keysByZone.getOrDefault(zone, 0L)));
    }
    return out.build();
  }

  /** Header, key chunks, summary; the summary counts what the chunks held. */
  private static final class Chunks implements Iterator<ComplianceReportChunk> {
    private ComplianceReportChunk header;
    private final List<KeyRecord> keys;
    private final int perChunk;
    private final KeyComplianceCheck check;
    private final Map<String, NavigableSet<String>> nodesByZone;
    private final Map<String, List<DestructionReceiptRecord>> receiptsByKey;
    private int next;
    private boolean summarized;
    private long exceptions;
    private final NavigableMap<Integer, Long> findings = new TreeMap<>();
    private final NavigableMap<String, Long> templates = new TreeMap<>();

    Chunks(
        ComplianceReportChunk header,
        List<KeyRecord> keys,
        int perChunk,
        KeyComplianceCheck check,
        Map<String, NavigableSet<String>> nodesByZone,
        Map<String, List<DestructionReceiptRecord>> receiptsByKey) {
      this.header = header;
      this.receiptsByKey = receiptsByKey;
      this.keys = keys;
      this.perChunk = perChunk;
      this.check = check;
      this.nodesByZone = nodesByZone;
    }

    @Override
    public boolean hasNext() {
      return !summarized;
    }

    @Override
    public ComplianceReportChunk next() {
      if (header != null) {
        ComplianceReportChunk first = header;
        header = null;
        return first;
      }
      if (next < keys.size()) {
        ComplianceKeyChunk.Builder chunk = ComplianceKeyChunk.newBuilder();
        int end = Math.min(keys.size(), next + perChunk);
        for (; next < end; next++) {
          KeyRecord key = keys.get(next);
          KeyCompliance.Builder withReceipts =
              check
                  .check(key, nodesByZone.getOrDefault(key.getZone(), new TreeSet<>()))
                  .toBuilder();
          for (DestructionReceiptRecord receipt :
              receiptsByKey.getOrDefault(key.getName(), List.of())) {
            withReceipts.addDestructionReceipts(DestructionReceiptViews.toApi(receipt));
          }
          KeyCompliance entry = withReceipts.build();
          count(entry);
          chunk.addKeys(entry);
        }
        return ComplianceReportChunk.newBuilder().setKeys(chunk).build();
      }
      if (summarized) {
        throw new NoSuchElementException();
      }
      summarized = true;
      return ComplianceReportChunk.newBuilder().setSummary(summary()).build();
    }

    private void count(KeyCompliance entry) {
      templates.merge(entry.getTemplate(), 1L, Long::sum);
      if (entry.getFindingsCount() > 0) {
        exceptions++;
      }
      entry.getFindingsList().stream()
          .map(ComplianceFinding::getKind)
          .map(FindingKind::getNumber)
          .distinct()
          .forEach(kind -> findings.merge(kind, 1L, Long::sum));
    }

    private ComplianceReportSummary summary() {
      ComplianceReportSummary.Builder out =
          ComplianceReportSummary.newBuilder().setKeys(keys.size()).setExceptions(exceptions);
      findings.forEach(
          (kind, count) ->
              out.addFindings(
                  FindingCount.newBuilder().setKind(FindingKind.forNumber(kind)).setKeys(count)));
      templates.forEach(
          (name, count) ->
              out.addTemplates(TemplateCount.newBuilder().setTemplate(name).setKeys(count)));
      return out.build();
    }
  }
}
