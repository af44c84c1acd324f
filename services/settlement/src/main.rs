//! `claimtrail-settlement`: the settlement service alone (same as `claimtrail serve settlement`).

use clap::Parser;

#[derive(Parser)]
#[command(version, about = "Claimtrail settlement service")]
struct Cli {
    #[command(flatten)]
    settings: claimtrail_runtime::ServeSettings,
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    claimtrail_runtime::telemetry::init("info", claimtrail_settlement::SERVICE);
    let cli = Cli::parse();
    claimtrail_settlement::run(cli.settings, claimtrail_runtime::shutdown_signal()).await
}
