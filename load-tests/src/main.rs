fn main() {
    println!("load-tests: scenarios arrive with the cluster issue");
}
