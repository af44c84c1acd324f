//! `claimtrail-fraud-service`: the fraud service alone (same as `claimtrail serve fraud`).

use clap::Parser;

#[derive(Parser)]
#[command(version, about = "Claimtrail fraud service")]
struct Cli {
    #[command(flatten)]
    settings: claimtrail_runtime::ServeSettings,
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    claimtrail_runtime::telemetry::init("info", claimtrail_fraud_service::SERVICE);
    let cli = Cli::parse();
    claimtrail_fraud_service::run(cli.settings, claimtrail_runtime::shutdown_signal()).await
}
