//! `claimtrail-adjudication`: the adjudication service alone (same as `claimtrail serve adjudication`).

use clap::Parser;

#[derive(Parser)]
#[command(version, about = "Claimtrail adjudication service")]
struct Cli {
    #[command(flatten)]
    settings: claimtrail_runtime::ServeSettings,
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    claimtrail_runtime::telemetry::init("info", claimtrail_adjudication::SERVICE);
    let cli = Cli::parse();
    claimtrail_adjudication::run(cli.settings, claimtrail_runtime::shutdown_signal()).await
}
