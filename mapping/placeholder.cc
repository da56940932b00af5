// Replaced as mapping sources land.
namespace portolan::mapping {}
