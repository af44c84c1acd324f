//! `claimtrail-intake`: the intake service alone (same as `claimtrail serve intake`).

use clap::Parser;

#[derive(Parser)]
#[command(version, about = "Claimtrail intake service")]
struct Cli {
    #[command(flatten)]
    settings: claimtrail_runtime::ServeSettings,
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    claimtrail_runtime::telemetry::init("info", claimtrail_intake::SERVICE);
    let cli = Cli::parse();
    claimtrail_intake::run(cli.settings, claimtrail_runtime::shutdown_signal()).await
}
