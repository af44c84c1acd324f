//! `claimtrail-anchor`: the anchor service alone (same as `claimtrail serve anchor`).

use clap::Parser;

#[derive(Parser)]
#[command(version, about = "Claimtrail anchor service")]
struct Cli {
    #[command(flatten)]
    settings: claimtrail_runtime::ServeSettings,
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    claimtrail_runtime::telemetry::init("info", claimtrail_anchor::SERVICE);
    let cli = Cli::parse();
    claimtrail_anchor::run(cli.settings, claimtrail_runtime::shutdown_signal()).await
}
