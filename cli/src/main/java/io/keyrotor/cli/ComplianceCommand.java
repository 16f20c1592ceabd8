package io.keyrotor.cli;

import com.google.protobuf.Timestamp;
import io.keyrotor.api.v1.StreamComplianceReportRequest;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/** {@code keyrotor compliance ...}: the compliance report. */
@Command(
    name = "compliance",
    description = "Compliance of the cluster's keys with their policies and templates.",
    subcommands = {ComplianceCommand.Report.class})
final class ComplianceCommand extends CommandArguments.Group {

  @Command(
      name = "report",
      description = {
        "Every key's cryptoperiod, usage and policy against its template, zone residency and the"
            + " nodes' HSMs, read by one node at one applied index (needs READ_AUDIT).",
        "Exceptions (keys out of line) come first, with the key's owner label. --json prints one"
            + " stable JSON object; --html FILE writes a self-contained page."
      })
  static final class Report implements Runnable {
    @Mixin CommandArguments.Invocation invocation;

    @Mixin SharedOptions.Template template;

    @Option(
        names = "--html",
        paramLabel = "FILE",
        description = "Write the report as a self-contained HTML page to FILE (- for stdout).")
    String html;

    @Option(
        names = "--as-of",
        paramLabel = "RFC3339",
        converter = Converters.Time.class,
        description = "Evaluate at this time instead of now (a projection of the same state).")
    Instant asOf;

    @Option(
        names = "--retired-decrypt-after",
        paramLabel = "DUR",
        converter = Converters.AnyDuration.class,
        description =
            "Report retired versions still decrypting after this long, for keys without a"
                + " decrypt grace (default: 365d).")
    Duration retiredDecryptAfter;

    @Override
    public void run() {
      KeyrotorCli root = invocation.root();
      if (html != null && root.json) {
        throw invocation.usageError("--json and --html FILE exclude each other");
      }
      StreamComplianceReportRequest.Builder request = StreamComplianceReportRequest.newBuilder();
      if (template.template != null) {
        request.setTemplate(template.template);
      }
      if (asOf != null) {
        request.setAsOfTime(
            Timestamp.newBuilder().setSeconds(asOf.getEpochSecond()).setNanos(asOf.getNano()));
      }
      if (retiredDecryptAfter != null) {
        request.setRetiredDecryptAfter(KeyCommand.toProto(retiredDecryptAfter));
      }
      ComplianceReport report =
          ComplianceReport.of(root.client().audit().complianceReport(request.build()));
      if (html == null) {
        root.print(report.json(), report.text());
        return;
      }
      byte[] page = ComplianceHtml.render(report).getBytes(StandardCharsets.UTF_8);
      try {
        CliFiles.write(root, html, target -> target.write(page));
      } catch (IOException e) {
        throw CliFiles.failure(e);
      }
      if (!CliFiles.isStdio(html)) {
        root.print(
            report.json(),
            "wrote "
                + html
                + ": "
                + report.summary().getKeys()
                + " keys, "
                + report.summary().getExceptions()
                + " with exceptions\n");
      }
    }
  }
}
